/**
 * Where the API is and who calls it, resolved as the Python SDK and the `maas` command do:
 * options, then the environment, then a profile, then the profile's saved login
 * (`maas login`). Node only (it reads files and may run a command): import it from
 * `@maas/client/login`; the client itself (`@maas/client`) stays usable in browsers.
 *
 * - The profile file is `$MAAS_CONFIG`, else `~/.config/maas/profiles.toml`: one table per
 *   profile with `api_url` and either `token` or `token_command` (run without a shell).
 * - Logins are kept beside it in `credentials.json` (`maas login` writes it, readable by its
 *   owner only), one entry per profile: the API's URL it was issued for, the ID token, when
 *   it expires, and for a Cognito login what renews it.
 * - The URL: `apiUrl`, `MAAS_API_URL`, the profile's `api_url`, the login's `api_url`. The
 *   token: `token`, `MAAS_TOKEN`, the profile's `token` or `token_command`, then the login,
 *   only when the URL is the one it was issued for.
 * - A login's token within two minutes of its expiry is renewed with the refresh token
 *   (Cognito's `REFRESH_TOKEN_AUTH`) and written back, as `maas.sdk.login.current_token`
 *   does; a client made by `connect` checks before every request, so a long-lived process
 *   keeps working past the token's hour. A local login (`maas login --tenant`) cannot be
 *   renewed: log in again.
 *
 * Cognito's sign-in operations are public and unsigned JSON over HTTPS:
 * https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html
 *
 * @example
 * ```ts
 * import { connect } from "@maas/client/login";
 * const maas = await connect(); // after `maas login --api-url http://127.0.0.1:8000 --tenant acme`
 * ```
 */

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

import { createMaasClient } from "./client.ts";
import type { MaasClient, MaasClientOptions } from "./client.ts";

export const CONFIG_VARIABLE = "MAAS_CONFIG";
export const API_URL_VARIABLE = "MAAS_API_URL";
export const TOKEN_VARIABLE = "MAAS_TOKEN";
export const PROFILE_VARIABLE = "MAAS_PROFILE";
export const DEFAULT_PROFILE = "default";
export const CREDENTIALS_FILE_NAME = "credentials.json";
/** A token this close to its expiry is renewed before it is sent (as the Python SDK). */
export const REFRESH_MARGIN_MS = 2 * 60 * 1000;

/** The connection cannot be resolved, or a login cannot be used or renewed. */
export class LoginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoginError";
  }
}

/** One table of the profile file. */
export interface Profile {
  api_url?: string;
  token?: string;
  token_command?: string;
}

interface BaseLogin {
  api_url: string;
  id_token: string;
  /** ISO 8601, as `maas login` writes it. */
  expires_at: string;
}

/** A login to a deployed API through its Cognito user pool. */
export interface CognitoLogin extends BaseLogin {
  kind: "cognito";
  user_pool_id: string;
  client_id: string;
  username: string;
  refresh_token: string;
  cognito_endpoint?: string | null;
}

/** A login to the local API (`maas local up`): a token of the local user pool. */
export interface LocalLogin extends BaseLogin {
  kind: "local";
  tenant: string;
}

export type Login = CognitoLogin | LocalLogin;

export interface ResolveOptions {
  apiUrl?: string;
  token?: string;
  /** The profile's name (else `MAAS_PROFILE`, else `default`). */
  profile?: string;
  /** The environment to read (default: `process.env`). */
  env?: Record<string, string | undefined>;
  /** The profile file (default: `$MAAS_CONFIG`, else `~/.config/maas/profiles.toml`). */
  path?: string;
  /** For tests: the fetch that calls Cognito. */
  fetch?: typeof fetch;
}

export interface Connection {
  apiUrl: string;
  /** The token to send, or a function giving the current one (a login's, renewed). */
  token: string | (() => Promise<string>) | undefined;
  /** The profile used, if any. */
  profile: string | undefined;
}

/** The profile file: `$MAAS_CONFIG`, else `~/.config/maas/profiles.toml`. */
export function configPath(env: Record<string, string | undefined> = process.env): string {
  const configured = env[CONFIG_VARIABLE];
  if (configured) {
    return configured.startsWith("~/") ? join(homedir(), configured.slice(2)) : configured;
  }
  return join(homedir(), ".config", "maas", "profiles.toml");
}

/** The logins' file, beside the profile file. */
export function credentialsPath(profileFile: string): string {
  return join(dirname(profileFile), CREDENTIALS_FILE_NAME);
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw error;
  }
}

const PROFILE_KEYS = new Set(["api_url", "token", "token_command"]);

/**
 * The profiles of a profile file. It reads the TOML the file holds: tables of string values
 * (`[name]`, then `key = "value"` lines); anything else is refused with its line.
 */
export function loadProfiles(path: string): Record<string, Profile> {
  const text = readIfPresent(path);
  const profiles: Record<string, Profile> = {};
  if (text === undefined) {
    return profiles;
  }
  let current: Profile | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const where = `${path}:${index + 1}`;
    if (line === "" || line.startsWith("#")) {
      return;
    }
    const table = /^\[\s*(?:"([^"]+)"|([A-Za-z0-9_-]+))\s*\](?:\s*#.*)?$/.exec(line);
    if (table !== null) {
      const name = table[1] ?? table[2] ?? "";
      current = profiles[name] = {};
      return;
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*')\s*(?:#.*)?$/.exec(line);
    if (pair === null || current === undefined) {
      throw new LoginError(`${where}: not a profile line this client reads (tables of strings)`);
    }
    const [, key = "", quoted = ""] = pair;
    if (!PROFILE_KEYS.has(key)) {
      throw new LoginError(`${where}: unknown profile key ${JSON.stringify(key)}`);
    }
    // A basic string's escapes are JSON's (TOML's \U and \e aside); a literal one has none.
    const value: string = quoted.startsWith('"') ? JSON.parse(quoted) : quoted.slice(1, -1);
    current[key as keyof Profile] = value;
  });
  for (const [name, profile] of Object.entries(profiles)) {
    if (profile.token !== undefined && profile.token_command !== undefined) {
      throw new LoginError(`${path}: profile ${name}: token and token_command are exclusive`);
    }
  }
  return profiles;
}

function isLogin(value: unknown): value is Login {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const entry = value as Record<string, unknown>;
  const strings = (...keys: string[]) => keys.every((key) => typeof entry[key] === "string");
  if (!strings("api_url", "id_token", "expires_at") || Number.isNaN(Date.parse(String(entry.expires_at)))) {
    return false;
  }
  if (entry.kind === "local") {
    return strings("tenant");
  }
  return entry.kind === "cognito" && strings("user_pool_id", "client_id", "username", "refresh_token");
}

/** Every profile's login in the logins' file at `path`; none when there is no file. */
export function loadLogins(path: string): Record<string, Login> {
  const text = readIfPresent(path);
  if (text === undefined) {
    return {};
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new LoginError(`${path}: not a file of logins: ${String(error)}`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new LoginError(`${path}: not a file of logins`);
  }
  const logins: Record<string, Login> = {};
  for (const [profile, entry] of Object.entries(document)) {
    if (!isLogin(entry)) {
      throw new LoginError(`${path}: the login of profile ${JSON.stringify(profile)} is not valid`);
    }
    logins[profile] = entry;
  }
  return logins;
}

/**
 * Keep `login` as `profile`'s in `path`: written whole to a private file beside it, then
 * renamed, so a reader never sees half of it and the tokens are never readable by others.
 */
export function saveLogin(path: string, profile: string, login: Login): void {
  const logins = { ...loadLogins(path), [profile]: login };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(path), `.credentials-${randomBytes(6).toString("hex")}`);
  try {
    writeFileSync(temporary, JSON.stringify(logins, null, 2), { mode: 0o600, flag: "wx" });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** The `exp` of a JWT, read without checking its signature (the API checks it). */
export function tokenExpiry(token: string): Date {
  const payload = token.split(".")[1];
  try {
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"));
    if (typeof claims.exp !== "number") {
      throw new TypeError("no exp");
    }
    return new Date(claims.exp * 1000);
  } catch (error) {
    throw new LoginError(`the identity provider answered a token that is not a JWT: ${String(error)}`);
  }
}

/** The public Cognito endpoint of the pool's region (the pool id's prefix). */
export function cognitoEndpoint(userPoolId: string): string {
  return `https://cognito-idp.${userPoolId.split("_", 1)[0]}.amazonaws.com/`;
}

/** `login` with a new ID token from its refresh token (`REFRESH_TOKEN_AUTH`). */
export async function refreshed(login: CognitoLogin, fetcher: typeof fetch = fetch): Promise<CognitoLogin> {
  const endpoint = login.cognito_endpoint ?? cognitoEndpoint(login.user_pool_id);
  let response: Response;
  try {
    response = await fetcher(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
      },
      body: JSON.stringify({
        AuthFlow: "REFRESH_TOKEN_AUTH",
        ClientId: login.client_id,
        AuthParameters: { REFRESH_TOKEN: login.refresh_token },
      }),
    });
  } catch (error) {
    throw new LoginError(`Cognito (${endpoint}) could not be reached: ${String(error)}`);
  }
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const kind = String(answer.__type ?? `HTTP ${response.status}`).split("#").pop();
    const message = String(answer.message ?? answer.Message ?? response.statusText);
    throw new LoginError(
      `Cognito refused InitiateAuth: ${kind}: ${message}; the login cannot be renewed: run maas login again`,
    );
  }
  const result = answer.AuthenticationResult as Record<string, string> | undefined;
  if (result?.IdToken === undefined) {
    throw new LoginError(`Cognito answered no tokens: ${Object.keys(answer).sort().join(", ")}`);
  }
  return {
    ...login,
    id_token: result.IdToken,
    expires_at: tokenExpiry(result.IdToken).toISOString(),
    // Cognito sends a new refresh token only when the client rotates them.
    refresh_token: result.RefreshToken ?? login.refresh_token,
  };
}

/**
 * The profile's login's token, renewed (and written back to `path`) when it is about to
 * expire; the stored login is read again each time, so a renewal by another process counts.
 */
export async function currentToken(
  path: string,
  profile: string,
  options: { now?: Date; fetch?: typeof fetch } = {},
): Promise<string> {
  const login = loadLogins(path)[profile];
  if (login === undefined) {
    throw new LoginError(`no login for profile ${JSON.stringify(profile)} in ${path}: run maas login`);
  }
  const now = (options.now ?? new Date()).getTime();
  if (Date.parse(login.expires_at) - REFRESH_MARGIN_MS > now) {
    return login.id_token;
  }
  if (login.kind === "local") {
    throw new LoginError(
      `the local login of profile ${JSON.stringify(profile)} expired at ${login.expires_at}: ` +
        `run \`maas login --tenant ${login.tenant}\` again`,
    );
  }
  const renewed = await refreshed(login, options.fetch);
  saveLogin(path, profile, renewed);
  return renewed.id_token;
}

/** A command line split as a POSIX shell would split words (quotes, backslashes), no shell. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < command.length; index++) {
    const character = command[index] ?? "";
    if (quote === "'") {
      if (character === "'") quote = undefined;
      else word = (word ?? "") + character;
    } else if (character === "\\" && index + 1 < command.length) {
      word = (word ?? "") + command[++index];
    } else if (quote === '"') {
      if (character === '"') quote = undefined;
      else word = (word ?? "") + character;
    } else if (character === '"' || character === "'") {
      quote = character;
      word ??= "";
    } else if (/\s/.test(character)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + character;
    }
  }
  if (quote !== undefined) {
    throw new LoginError(`token_command ${JSON.stringify(command)}: an unclosed quote`);
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Run a profile's `token_command` (no shell) and return what it printed, trimmed. */
export function runTokenCommand(command: string): string {
  const [program, ...args] = splitCommand(command);
  if (program === undefined) {
    throw new LoginError("token_command is empty");
  }
  let printed: string;
  try {
    printed = execFileSync(program, args, { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    throw new LoginError(`token_command ${JSON.stringify(command)} failed: ${String(error)}`);
  }
  const token = printed.trim();
  if (token === "") {
    throw new LoginError(`token_command ${JSON.stringify(command)} printed no token`);
  }
  return token;
}

/** The connection from options, environment, profile and login, in that order. */
export function resolveConnection(options: ResolveOptions = {}): Connection {
  const env = options.env ?? process.env;
  const file = options.path ?? configPath(env);
  const name = options.profile || env[PROFILE_VARIABLE] || undefined;
  const profileName = name ?? DEFAULT_PROFILE;
  const profiles = loadProfiles(file);
  const chosen = profiles[profileName];
  const credentials = credentialsPath(file);
  const login = loadLogins(credentials)[profileName];
  if (chosen === undefined && login === undefined && name !== undefined) {
    const known = Object.keys(profiles).sort().join(", ") || "none";
    throw new LoginError(`no profile ${JSON.stringify(name)} in ${file} (profiles: ${known})`);
  }
  const url = options.apiUrl || env[API_URL_VARIABLE] || chosen?.api_url || login?.api_url;
  if (!url) {
    throw new LoginError(
      `no API URL: give apiUrl, set ${API_URL_VARIABLE}, set api_url in a profile of ${file}, or run maas login`,
    );
  }
  const apiUrl = url.replace(/\/+$/, "");
  let token: Connection["token"] = options.token || env[TOKEN_VARIABLE] || chosen?.token;
  if (token === undefined && chosen?.token_command !== undefined) {
    token = runTokenCommand(chosen.token_command);
  }
  // A login's token goes only where it was issued: never to another API named by an option.
  if (token === undefined && login !== undefined && login.api_url.replace(/\/+$/, "") === apiUrl) {
    const fetcher = options.fetch;
    token = () => currentToken(credentials, profileName, { fetch: fetcher });
  }
  const used = chosen !== undefined || login !== undefined ? profileName : undefined;
  return { apiUrl, token, profile: used };
}

/**
 * A client of the API the connection names, sending its token (a login's renewed as
 * needed); `options` are `resolveConnection`'s, and the client's own (e.g. `fetch`).
 */
export async function connect(
  options: ResolveOptions & Omit<MaasClientOptions, "baseUrl" | "token" | "fetch"> = {},
): Promise<MaasClient> {
  const { apiUrl, token, profile, env, path, fetch: fetcher, ...clientOptions } = options;
  const connection = resolveConnection({ apiUrl, token, profile, env, path, fetch: fetcher });
  if (typeof connection.token === "function") {
    await connection.token(); // an expired login fails here, not at the first request
  }
  return createMaasClient({ ...clientOptions, baseUrl: connection.apiUrl, token: connection.token });
}

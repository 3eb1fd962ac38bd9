/**
 * `@maas/client/login` without an API: the profile file, the order of the token's sources,
 * the token command, and a Cognito login renewed through a stand-in of Cognito's endpoint.
 * (tests/sdk_typescript/test_typescript_login.py runs it against `maas login`'s own files, a
 * local API and moto's Cognito.)
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

import {
  currentToken,
  LoginError,
  loadProfiles,
  resolveConnection,
  saveLogin,
  splitCommand,
} from "../src/login.ts";
import type { CognitoLogin } from "../src/login.ts";

function folder(): string {
  return mkdtempSync(join(tmpdir(), "maas-login-"));
}

/** A JWT (unsigned: the client reads only its `exp`). */
function jwt(expiresAt: Date): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ exp: Math.floor(expiresAt.getTime() / 1000) })}.`;
}

const PROFILES = `# as docs/sdk.md shows it
[default]
api_url = "http://127.0.0.1:8000"
token_command = "echo 'local token'"

[ci]
api_url = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod'  # a literal string
token = "t0ken"
`;

describe("the profile file", () => {
  test("is read as tables of strings", () => {
    const path = join(folder(), "profiles.toml");
    writeFileSync(path, PROFILES);
    assert.deepEqual(loadProfiles(path), {
      default: { api_url: "http://127.0.0.1:8000", token_command: "echo 'local token'" },
      ci: { api_url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod", token: "t0ken" },
    });
  });

  test("refuses what it cannot read, naming the line", () => {
    const path = join(folder(), "profiles.toml");
    writeFileSync(path, "[default]\napi_url = 8000\n");
    assert.throws(() => loadProfiles(path), /profiles\.toml:2: not a profile line/);
  });
});

describe("the connection", () => {
  test("takes the option, then the environment, then the profile", () => {
    const path = join(folder(), "profiles.toml");
    writeFileSync(path, PROFILES);
    const env = { MAAS_TOKEN: "from-env" };
    assert.equal(resolveConnection({ path, env, profile: "ci", token: "given" }).token, "given");
    assert.equal(resolveConnection({ path, env, profile: "ci" }).token, "from-env");
    const ci = resolveConnection({ path, env: {}, profile: "ci" });
    assert.deepEqual(ci, {
      apiUrl: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
      token: "t0ken",
      profile: "ci",
    });
    // The default profile's command, run without a shell.
    assert.equal(resolveConnection({ path, env: {} }).token, "local token");
  });

  test("names the profiles it knows when asked for another", () => {
    const path = join(folder(), "profiles.toml");
    writeFileSync(path, PROFILES);
    assert.throws(() => resolveConnection({ path, env: {}, profile: "prod" }), /profiles: ci, default/);
  });

  test("sends a login only to the API it was issued for", () => {
    const dir = folder();
    const path = join(dir, "profiles.toml");
    saveLogin(join(dir, "credentials.json"), "default", {
      kind: "local",
      api_url: "http://127.0.0.1:8000",
      id_token: jwt(new Date(Date.now() + 3_600_000)),
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      tenant: "acme",
    });
    assert.equal(typeof resolveConnection({ path, env: {} }).token, "function");
    const elsewhere = resolveConnection({ path, env: { MAAS_API_URL: "http://api.example" } });
    assert.equal(elsewhere.token, undefined);
  });
});

describe("a Cognito login", () => {
  test("is renewed near its expiry and kept, readable by its owner only", async () => {
    const dir = folder();
    const credentials = join(dir, "credentials.json");
    const login: CognitoLogin = {
      kind: "cognito",
      api_url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
      id_token: "old",
      expires_at: new Date(Date.now() + 60_000).toISOString(), // inside the two minutes
      user_pool_id: "eu-west-1_AbCdEf123",
      client_id: "client",
      username: "ada",
      refresh_token: "refresh",
      cognito_endpoint: null,
    };
    saveLogin(credentials, "default", login);
    const renewed = jwt(new Date(Date.now() + 3_600_000));
    const sent: Array<{ url: string; target: string | null; body: unknown }> = [];
    const cognito: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      sent.push({ url: String(input), target: headers.get("X-Amz-Target"), body: JSON.parse(String(init?.body)) });
      return Response.json({ AuthenticationResult: { IdToken: renewed } });
    };

    assert.equal(await currentToken(credentials, "default", { fetch: cognito }), renewed);

    assert.deepEqual(sent, [
      {
        url: "https://cognito-idp.eu-west-1.amazonaws.com/",
        target: "AWSCognitoIdentityProviderService.InitiateAuth",
        body: { AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: "client", AuthParameters: { REFRESH_TOKEN: "refresh" } },
      },
    ]);
    const kept = JSON.parse(readFileSync(credentials, "utf8")).default;
    assert.equal(kept.id_token, renewed);
    assert.equal(kept.refresh_token, "refresh");
    assert.equal(statSync(credentials).mode & 0o777, 0o600);
  });

  test("that Cognito refuses asks for a new login", async () => {
    const dir = folder();
    const credentials = join(dir, "credentials.json");
    saveLogin(credentials, "default", {
      kind: "cognito",
      api_url: "https://api.example",
      id_token: "old",
      expires_at: new Date(Date.now() - 1000).toISOString(),
      user_pool_id: "us-east-1_x",
      client_id: "client",
      username: "ada",
      refresh_token: "revoked",
    });
    const refusing: typeof fetch = async () =>
      Response.json({ __type: "NotAuthorizedException", message: "Refresh Token has been revoked" }, { status: 400 });
    await assert.rejects(
      currentToken(credentials, "default", { fetch: refusing }),
      (error: unknown) =>
        error instanceof LoginError && /NotAuthorizedException: Refresh Token has been revoked; .*run maas login again/.test(error.message),
    );
  });
});

test("a token command is split as a shell splits words, without a shell", () => {
  assert.deepEqual(splitCommand(`cat "/run/secrets/maas token" 'a b' c\\ d`), [
    "cat",
    "/run/secrets/maas token",
    "a b",
    "c d",
  ]);
  assert.throws(() => splitCommand(`echo "open`), LoginError);
});

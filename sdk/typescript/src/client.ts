/**
 * A typed client of the maas control plane's REST API.
 *
 * The types in `schema.d.ts` are generated from `schemas/openapi.json` by openapi-typescript
 * (`npm run generate`); this module is a thin layer on openapi-fetch: a client that sends
 * the tenant's token, an error class for RFC 9457 problem details, and a helper that follows
 * a workflow execution until it is done.
 *
 * It uses only erasable TypeScript syntax, so Node (23.6+) runs it as is in the repository;
 * the package ships it compiled (`npm run build`: dist/, ES modules and .d.ts) for Node 20+.
 *
 * @example
 * ```ts
 * const maas = createMaasClient({ baseUrl: "http://127.0.0.1:8000", token });
 * const { items } = unwrap(await maas.GET("/v1/endpoints", { params: { query: { limit: 10 } } }));
 * const accepted = unwrap(await maas.POST("/v1/endpoints", { body: deployment }));
 * const execution = await waitForExecution(maas, accepted.status_url);
 * ```
 */

import createClient from "openapi-fetch";
import type { Client, ClientOptions } from "openapi-fetch";

import type { components, paths } from "./schema.d.ts";

export type { components, paths };
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type FieldProblem = Schemas["FieldProblem"];
export type ExecutionAccepted = Schemas["ExecutionAccepted"];
export type ExecutionView = Schemas["ExecutionView"];
export type Workflow = Schemas["Workflow"];

/** The client: openapi-fetch's, typed by the API's paths. */
export type MaasClient = Client<paths>;

export interface MaasClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The API's base URL, e.g. `http://127.0.0.1:8000` (`maas local up`) or the stage URL. */
  baseUrl: string;
  /**
   * The tenant's ID token (locally: `maas local token`), sent as `Authorization: Bearer`;
   * or a function giving the current one before each request (a saved login's, renewed when
   * it expires: `connect` from `@maas/client/login`).
   */
  token?: string | (() => Promise<string>);
}

/** A client that sends `token` with every request. */
export function createMaasClient(options: MaasClientOptions): MaasClient {
  const { token, ...rest } = options;
  const client = createClient<paths>(rest);
  if (token !== undefined) {
    client.use({
      async onRequest({ request }) {
        const current = typeof token === "function" ? await token() : token;
        request.headers.set("Authorization", `Bearer ${current}`);
        return request;
      },
    });
  }
  return client;
}

/**
 * An answer of 4xx or 5xx, as the problem details it carried.
 *
 * API Gateway's own refusals (its authorizer's 401, a 502 when the function fails) are not
 * problem details but `{"message": ...}`; they are turned into one, so callers handle a
 * single shape.
 */
export class ProblemError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.name = "ProblemError";
    this.problem = problem;
  }

  /** The HTTP status code. */
  get status(): number {
    return this.problem.status;
  }

  /** The fields a 422 names, each with its message (empty for other problems). */
  get fieldErrors(): FieldProblem[] {
    return this.problem.errors ?? [];
  }

  /** The problem an error answer carried, whatever its body. */
  static fromResponse(response: Response, body: unknown): ProblemError {
    if (isProblem(body)) {
      return new ProblemError(body);
    }
    const message =
      typeof body === "object" && body !== null && "message" in body
        ? String(body.message)
        : typeof body === "string" && body !== ""
          ? body
          : response.statusText;
    return new ProblemError({
      type: "about:blank",
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      detail: message,
      instance: new URL(response.url).pathname,
      error_name: null,
      errors: null,
    });
  }
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === "object" &&
    body !== null &&
    typeof (body as Record<string, unknown>).status === "number" &&
    typeof (body as Record<string, unknown>).title === "string"
  );
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The body of a successful answer; a `ProblemError` for any other. */
export function unwrap<T>(answer: Answer<T>): T {
  if (!answer.response.ok) {
    throw ProblemError.fromResponse(answer.response, answer.error);
  }
  return answer.data as T;
}

export interface WaitOptions {
  /** How long between two reads of the execution (default 500 ms). */
  intervalMs?: number;
  /** How long to wait at most (default 10 minutes). */
  timeoutMs?: number;
  /** Stops the wait early. */
  signal?: AbortSignal;
}

const STATUS_PATH = /\/v1\/executions\/([^/]+)\/([^/?#]+)$/;

/**
 * Read an execution at `statusUrl` (an `ExecutionAccepted`'s `status_url` or `Location`)
 * until it is no longer RUNNING, and return its last view.
 *
 * @throws ProblemError when the status URL answers an error (e.g. 404), or when the
 *   execution is still RUNNING after `timeoutMs`.
 */
export async function waitForExecution(
  client: MaasClient,
  statusUrl: string,
  options: WaitOptions = {},
): Promise<ExecutionView> {
  const { intervalMs = 500, timeoutMs = 600_000, signal } = options;
  const match = STATUS_PATH.exec(new URL(statusUrl, "http://base.invalid").pathname);
  if (match === null) {
    throw new TypeError(`not an execution's status URL: ${statusUrl}`);
  }
  const [, workflow = "", name = ""] = match;
  const path = { workflow: decodeURIComponent(workflow) as Workflow, name: decodeURIComponent(name) };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = unwrap(
      await client.GET("/v1/executions/{workflow}/{name}", { params: { path }, signal }),
    );
    if (view.status !== "RUNNING") {
      return view;
    }
    if (Date.now() + intervalMs > deadline) {
      throw new ProblemError({
        type: "about:blank",
        title: "Timeout",
        status: 408,
        detail: `execution ${view.execution_name} still RUNNING after ${timeoutMs} ms`,
        instance: statusUrl,
        error_name: null,
        errors: null,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    signal?.throwIfAborted();
  }
}

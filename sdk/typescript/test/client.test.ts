/**
 * The client against a running API: lists, problems (404, 422, 401) and a deployment
 * followed to its end.
 *
 * Needs MAAS_API_URL and MAAS_TOKEN (a tenant's token, e.g. `maas local token --tenant acme`)
 * and a registered, approved model version of that tenant: tests/sdk_typescript sets all
 * three up on a local runtime and runs this file.
 */

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { createMaasClient, ProblemError, unwrap, waitForExecution } from "../src/client.ts";
import type { MaasClient, Schemas } from "../src/client.ts";

const baseUrl = process.env.MAAS_API_URL;
const token = process.env.MAAS_TOKEN;
if (!baseUrl || !token) {
  throw new Error("set MAAS_API_URL and MAAS_TOKEN to run these tests");
}

const maas: MaasClient = createMaasClient({ baseUrl, token });

async function problemOf(call: Promise<unknown>): Promise<ProblemError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ProblemError, `expected a ProblemError, got ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded");
}

describe("the maas client", () => {
  let registered: Schemas["ModelVersionRecord"];

  before(async () => {
    const models = unwrap(await maas.GET("/v1/models"));
    for (const model of models.items) {
      const versions = unwrap(
        await maas.GET("/v1/models/{model_name}/versions", {
          params: { path: { model_name: model.model_name } },
        }),
      );
      const ready = versions.items.find(
        (v) => v.status === "REGISTERED" && v.approval_status === "Approved",
      );
      if (ready) {
        registered = ready;
        return;
      }
    }
    assert.fail("the tenant has no registered, approved model version to deploy");
  });

  test("lists pages of endpoints, models and versions", async () => {
    const endpoints = unwrap(await maas.GET("/v1/endpoints", { params: { query: { limit: 5 } } }));
    assert.ok(Array.isArray(endpoints.items));
    assert.ok(endpoints.items.length <= 5);
    const versions = unwrap(
      await maas.GET("/v1/models/{model_name}/versions", {
        params: { path: { model_name: registered.model_name }, query: { limit: 1 } },
      }),
    );
    assert.equal(versions.items.length, 1);
    const version = unwrap(
      await maas.GET("/v1/models/{model_name}/versions/{version}", {
        params: { path: { model_name: registered.model_name, version: registered.version } },
      }),
    );
    assert.equal(version.artifact_uri, registered.artifact_uri);
  });

  test("an unknown endpoint is a 404 problem", async () => {
    const answer = await maas.GET("/v1/endpoints/{name}", {
      params: { path: { name: "no-such-endpoint" } },
    });
    assert.equal(answer.response.headers.get("content-type"), "application/problem+json");
    const problem = await problemOf(Promise.resolve(answer).then(unwrap));
    assert.equal(problem.status, 404);
    assert.equal(problem.problem.instance, "/v1/endpoints/no-such-endpoint");
    assert.equal(problem.problem.error_name, "Maas.NotFound");
  });

  test("an invalid deployment is a 422 problem naming each bad field", async () => {
    const problem = await problemOf(
      maas
        .POST("/v1/endpoints", {
          body: {
            endpoint_name: "not a valid name!",
            instance_count: 0,
            model: { model_name: registered.model_name, version: registered.version },
          },
        })
        .then(unwrap),
    );
    assert.equal(problem.status, 422);
    const fields = problem.fieldErrors.map((e) => e.field).sort();
    assert.deepEqual(fields, ["endpoint_name", "instance_count"]);
    assert.ok(problem.fieldErrors.every((e) => e.message.length > 0));
  });

  test("a request without a token is refused with 401", async () => {
    const anonymous = createMaasClient({ baseUrl });
    const problem = await problemOf(anonymous.GET("/v1/endpoints").then(unwrap));
    assert.equal(problem.status, 401);
    assert.equal(problem.problem.detail, "Unauthorized");
  });

  test("a deployment is accepted and followed until SUCCEEDED", async () => {
    const name = `ts-sdk-${Date.now().toString(36)}`;
    const { data, response } = await maas.POST("/v1/endpoints", {
      body: {
        endpoint_name: name,
        model: { model_name: registered.model_name, version: registered.version },
      },
      headers: { "Idempotency-Key": name },
    });
    assert.equal(response.status, 202);
    assert.ok(data);
    assert.equal(data.workflow, "deploy-endpoint");
    assert.equal(response.headers.get("location"), data.status_url);

    const execution = await waitForExecution(maas, data.status_url, {
      intervalMs: 200,
      timeoutMs: 60_000,
    });
    assert.equal(execution.status, "SUCCEEDED", `${execution.error}: ${execution.cause}`);
    assert.ok(execution.path.length > 0);
    const endpoint = unwrap(
      await maas.GET("/v1/endpoints/{name}", { params: { path: { name } } }),
    );
    assert.equal(endpoint.status, "IN_SERVICE");
    assert.equal(endpoint.endpoint_name, name);
  });
});

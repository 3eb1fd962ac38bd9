/**
 * A project's use of the installed package (`npm install <tarball>`): the compiled client,
 * its types, on the project's Node. tests/sdk_typescript/test_typescript_package.py copies
 * this file into a temporary project, type-checks it against the package's .d.ts and runs it
 * (as JavaScript, type annotations stripped by tsc) with MAAS_API_URL and MAAS_TOKEN set
 * (and MAAS_CONFIG naming a file that does not exist: no profile, no saved login).
 */

import { createMaasClient, ProblemError, unwrap } from "@maas/client";
import type { MaasClient, Schemas } from "@maas/client";
import { connect, resolveConnection } from "@maas/client/login";

const baseUrl = process.env.MAAS_API_URL;
const token = process.env.MAAS_TOKEN;
if (!baseUrl || !token) {
  throw new Error("set MAAS_API_URL and MAAS_TOKEN");
}

const maas: MaasClient = createMaasClient({ baseUrl, token });
const models: Schemas["Page_ModelOverview_"] = unwrap(await maas.GET("/v1/models"));
const endpoints = unwrap(await maas.GET("/v1/endpoints", { params: { query: { limit: 5 } } }));

// The connection as the Python SDK resolves it: here from the environment.
const connection = resolveConnection();
const connected = await connect();
const listed = unwrap(await connected.GET("/v1/endpoints")).items.length;

let missing = 0;
try {
  unwrap(
    await maas.GET("/v1/endpoints/{name}", {
      params: { path: { name: "no-such-endpoint" } },
    }),
  );
} catch (error) {
  if (!(error instanceof ProblemError)) {
    throw error;
  }
  missing = error.status;
}

console.log(
  JSON.stringify({
    node: process.version,
    models: models.items.map((model) => model.model_name),
    endpoints: endpoints.items.length,
    missing,
    resolved: connection.apiUrl === baseUrl && connection.token === token,
    listed,
  }),
);

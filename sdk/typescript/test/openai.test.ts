/**
 * The official `openai` npm package against the API's OpenAI-compatible path (/openai/v1):
 * a chat, a completion and a streamed chat, with the tenant's token as the API key.
 *
 * Needs MAAS_API_URL, MAAS_TOKEN and MAAS_MODEL (an endpoint of the token's tenant, in
 * service): tests/sdk_typescript/test_openai_npm.py sets them up on a local runtime serving
 * a tiny model, and runs this file. Without them the tests are skipped, so that `npm test`
 * against an API with no model served runs the client's own tests.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import OpenAI from "openai";

const baseUrl = process.env.MAAS_API_URL ?? "";
const token = process.env.MAAS_TOKEN ?? "";
const model = process.env.MAAS_MODEL ?? "";
const skip = baseUrl && token && model ? false : "set MAAS_API_URL, MAAS_TOKEN and MAAS_MODEL";

const client = new OpenAI({ baseURL: `${baseUrl}/openai/v1`, apiKey: token || "-", maxRetries: 0 });
// Seeded sampling: the same words, streamed or not.
const sampled = { temperature: 1, seed: 1, max_tokens: 24 };
const messages = [{ role: "user" as const, content: "Tell me a story." }];

describe("the openai package", { skip }, () => {
  test("lists the tenant's endpoints as models", async () => {
    const models = await client.models.list();
    assert.ok(models.data.some((entry) => entry.id === model));
  });

  test("chats", async () => {
    const completion = await client.chat.completions.create({ model, messages, ...sampled });
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.choices[0]?.finish_reason, "length");
    assert.equal(completion.usage?.completion_tokens, sampled.max_tokens);
  });

  test("completes", async () => {
    const completion = await client.completions.create({
      model,
      prompt: "Once upon a time",
      ...sampled,
    });
    assert.equal(completion.object, "text_completion");
    assert.ok((completion.choices[0]?.text ?? "").length > 0);
  });

  test("streams a chat in chunks that add up to the answer", async () => {
    const whole = await client.chat.completions.create({ model, messages, ...sampled });
    const stream = await client.chat.completions.create({
      model,
      messages,
      ...sampled,
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      finish = choice?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.ok(pieces.length >= 2, `the answer came in ${pieces.length} piece(s)`);
    assert.equal(pieces.join(""), whole.choices[0]?.message.content);
    assert.equal(finish, "length");
    assert.deepEqual(usage, whole.usage);
  });

  test("another model is not found, streamed or not", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "no-such-endpoint", messages, stream: true }),
      (error: unknown) => error instanceof OpenAI.NotFoundError,
    );
  });
});

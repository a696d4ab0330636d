// Drives the live API through the client generated from openapi/openapi.json, as a phone app
// would: log in, start an attempt (and retry the start with the same Idempotency-Key, as after a
// lost response), save an answer, submit, read the result. Exits non-zero on any surprise.
//
//   EXAMBANK_URL=http://127.0.0.1:8080 EXAMBANK_EMAIL=... EXAMBANK_PASSWORD=... node dist/smoke.js
import createClient from "openapi-fetch";
import { randomUUID } from "node:crypto";
import type { paths } from "./schema";

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`set ${name}`);
  return v;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`smoke: ${what}`);
  console.log(`ok  ${what}`);
}

async function main(): Promise<void> {
  const baseUrl = env("EXAMBANK_URL");
  const api = createClient<paths>({ baseUrl });

  const login = await api.POST("/api/v1/auth/login", {
    body: { email: env("EXAMBANK_EMAIL"), password: env("EXAMBANK_PASSWORD") },
  });
  if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.error)}`);
  const token: string = login.data.access_token;
  check(login.data.user.email === env("EXAMBANK_EMAIL"), "login returns the user");
  const auth = { Authorization: `Bearer ${token}` };

  // a start whose response was lost is retried with the same key: one attempt, one clock
  const key = randomUUID();
  const start = () =>
    api.POST("/api/v1/attempts", {
      params: { header: { "Idempotency-Key": key } },
      headers: auth,
      body: { blueprint: "quick", mode: "exam" },
    });
  const first = await start();
  if (!first.data) throw new Error(`start failed: ${JSON.stringify(first.error)}`);
  const retry = await start();
  if (!retry.data) throw new Error(`retried start failed: ${JSON.stringify(retry.error)}`);
  check(first.data.id === retry.data.id, "a retried start returns the same attempt");
  check(retry.response.headers.get("idempotency-replayed") === "true", "the retry is a replay");
  const attempt = first.data;
  check(attempt.questions.length === 20, "the quick exam has 20 questions");

  const q = attempt.questions[0];
  const option = q?.options[0];
  if (!q || !option) throw new Error("the attempt has no question or option");
  const saved = await api.PUT("/api/v1/attempts/{id}/answers/{position}", {
    params: { path: { id: attempt.id, position: q.position } },
    headers: auth,
    body: { choices: [option.id], revision: q.revision },
  });
  if (!saved.data) throw new Error(`save failed: ${JSON.stringify(saved.error)}`);
  check(saved.data.choices[0] === option.id, "the answer is saved");

  // a typed problem: the same key with another body
  const clash = await api.POST("/api/v1/attempts", {
    params: { header: { "Idempotency-Key": key } },
    headers: auth,
    body: { blueprint: "quick", mode: "practice" },
  });
  check(clash.response.status === 422 && clash.error?.status === 422, "a reused key with another body is a 422 problem");

  const submitted = await api.POST("/api/v1/attempts/{id}/submit", {
    params: { path: { id: attempt.id } },
    headers: auth,
  });
  if (!submitted.data) throw new Error(`submit failed: ${JSON.stringify(submitted.error)}`);
  check(submitted.data.answered === 1, "the result counts the one answer");
  const result = await api.GET("/api/v1/attempts/{id}/result", {
    params: { path: { id: attempt.id } },
    headers: auth,
  });
  check(result.data?.attempt_id === attempt.id, "the result reads back");
  console.log("smoke: all green");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

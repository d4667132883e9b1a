// A typed client in miniature: whatever runs a TypedDocumentNode (Apollo Client, urql,
// graphql-request) takes its result and variables types from the document itself.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";

import { HomeDocument, LoginDocument } from "./generated/graphql";
import type { HomeQuery } from "./generated/graphql";

declare function execute<Result, Variables>(
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
): Promise<Result>;

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assert = <T extends true>(): T | undefined => undefined;

export async function firstSlug(): Promise<string | undefined> {
  const home = await execute(HomeDocument, { after: null });
  assert<Equal<typeof home, HomeQuery>>();
  assert<Equal<(typeof home)["articles"]["nodes"][number]["author"]["following"], boolean>>();
  assert<Equal<(typeof home)["tags"], Array<string>>>();
  return home.articles.nodes[0]?.slug;
}

export async function signIn(): Promise<string> {
  // @ts-expect-error: the variables are the operation's, with their types
  await execute(LoginDocument, { input: { email: "jake@example.com" } });
  const input = { email: "jake@example.com", password: "jakejake" };
  const { login } = await execute(LoginDocument, { input });
  return login.token;
}

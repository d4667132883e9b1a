// A typed client in miniature: whatever runs a TypedDocumentNode (Apollo Client, urql,
// graphql-request) takes its result and variables types from the document itself.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";

import { CommentAddedDocument, HomeDocument, LoginDocument } from "./generated/graphql";
import type { CommentAddedSubscription, HomeQuery } from "./generated/graphql";

declare function execute<Result, Variables>(
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
): Promise<Result>;
// What graphql-ws's client (or Apollo Client's GraphQLWsLink) gives a subscription: its events.
declare function subscribe<Result, Variables>(
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
): AsyncIterable<Result>;

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

export async function firstLiveComment(slug: string): Promise<string | undefined> {
  // @ts-expect-error: the subscription's variable is the article's slug, and it is required
  subscribe(CommentAddedDocument, {});
  for await (const event of subscribe(CommentAddedDocument, { slug })) {
    assert<Equal<typeof event, CommentAddedSubscription>>();
    assert<Equal<(typeof event)["commentAdded"]["author"], { username: string }>>();
    return event.commentAdded.body;
  }
  return undefined;
}

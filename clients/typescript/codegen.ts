import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed documents for the operations the project ships, from the schema the server exports.
const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: "../../docs/operations/*.graphql",
  generates: {
    "generated/graphql.ts": {
      // No "typescript" plugin: typescript-operations 6 writes the input and enum types itself,
      // and both together declare them twice.
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        // Every scalar must be mapped: an unmapped one would silently become `any`.
        strictScalars: true,
        scalars: { DateTime: "string" },
        useTypeImports: true,
      },
    },
  },
};

export default config;

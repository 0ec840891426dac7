// Operation types from the schema the server prints (schema/schema.graphql, `make schema`).
// `npm run codegen` rewrites src/gql/; `npm run codegen:check` (make test, CI) fails when they are stale.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema/schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: { enumsAsTypes: true, useTypeImports: true, scalars: { DateTime: "string", JSON: "unknown" } },
    },
  },
};

export default config;

// In development the dev server (http://localhost:5173) proxies the API's paths to the
// Django server (make run, http://127.0.0.1:8000 unless API_ORIGIN says otherwise): the
// page, /graphql/ (HTTP and WebSocket), the emulator's pages and the static files share
// one origin, so no CORS and the session cookie just works.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const api = process.env.API_ORIGIN ?? `http://127.0.0.1:${process.env.PORT ?? "8000"}`;
const toApi = { target: api, changeOrigin: false };

export default defineConfig({
  plugins: [react()],
  base: "/",
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/graphql/": { ...toApi, ws: true },
      "/_emulator/": toApi,
      "/static/": toApi,
      "/admin/": toApi,
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
  },
});

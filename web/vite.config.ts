import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
    rollupOptions: {
      output: {
        // the chart library is big and only the terminal screen needs it
        manualChunks: { charts: ['lightweight-charts'] },
      },
    },
  },
  server: {
    // `npx vite web` during development: the API of a running `npm start`
    proxy: {
      '^/(v1|v2|market-data|users|auth|api-keys|brokerages|notifications|alerts)': {
        target: 'http://localhost:8080',
        ws: true,
      },
    },
  },
});

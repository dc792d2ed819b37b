import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into console/dist, which the platform serves at `/` (src/console/console.static.ts).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  server: {
    // `npx vite console` for development, against a platform running on the default port.
    proxy: { '/api': 'http://127.0.0.1:7070' },
  },
});

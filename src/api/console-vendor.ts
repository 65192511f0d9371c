import path from 'node:path';
import express, { type Router } from 'express';

/**
 * Third-party browser files the console loads, served from node_modules as installed (no CDN):
 * the version is the one package-lock.json pins.
 */
const FILES: Record<string, { pkg: string; file: string }> = {
  'uplot.js': { pkg: 'uplot', file: 'dist/uPlot.iife.min.js' },
  'uplot.css': { pkg: 'uplot', file: 'dist/uPlot.min.css' },
};

export function consoleVendorRouter(): Router {
  const router = express.Router();
  for (const [name, { pkg, file }] of Object.entries(FILES)) {
    const full = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
    router.get(`/${name}`, (_req, res) => res.sendFile(full, { maxAge: '1h' }));
  }
  return router;
}

/**
 * postinstall: builds the web pages when they are missing or were built from other sources, so
 * `npm ci && npm start` serves every page. `--if-possible`: without webpack (a production install)
 * it says so and succeeds. `--force`: builds anyway.
 */
import { BUILD_DIR, buildWeb, builtFrom, canBuild, missingPages, sourceHash, WebBuildError } from '../server/http/web-build';

async function main() {
  const force = process.argv.includes('--force');
  if (!force && missingPages(BUILD_DIR).length === 0 && builtFrom(BUILD_DIR) === sourceHash()) {
    console.log('Lifeboat web pages are up to date.');
    return;
  }
  if (!canBuild() && process.argv.includes('--if-possible')) {
    console.log('Lifeboat web pages not built: webpack is not installed (dev dependencies were left out). `npm start` will say so.');
    return;
  }
  await buildWeb((line) => console.log(line));
}

main().catch((err) => {
  console.error(err instanceof WebBuildError ? `Lifeboat web pages: ${err.message}` : err);
  process.exit(1);
});

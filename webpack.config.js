// Builds the browser code (the Outlook task pane, its ribbon FunctionFile and the admin page)
// into the server's static files. TypeScript is transformed by swc; type checking is `npm run typecheck`.
// office.js is not bundled: the server serves it from the @microsoft/office-js package at
// /addin/office-js/ (no CDN during an outage), and the pages load it before their own code.
const path = require('node:path');
const HtmlWebpackPlugin = require('html-webpack-plugin');
const CopyWebpackPlugin = require('copy-webpack-plugin');

const swc = {
  loader: 'swc-loader',
  options: {
    jsc: {
      parser: { syntax: 'typescript', tsx: true },
      target: 'es2020',
      transform: { react: { runtime: 'automatic' } },
    },
  },
};

const OFFICE_JS = '/addin/office-js/office.js';

const page = (title, body = '<div id="root"></div>', officeJs = true) =>
  '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">' +
  '<link rel="icon" type="image/png" href="/addin/assets/icon-32.png">' +
  `<title>${title}</title>` +
  (officeJs ? `<script src="${OFFICE_JS}"></script>` : '') +
  `</head><body style="margin:0">${body}</body></html>`;

const SUPPORT_BODY = `<main style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Lifeboat for Outlook</h1>
<p>Lifeboat keeps your email going when Microsoft 365 or Exchange is down. The Lifeboat button in Outlook
opens a pane that shows whether <em>continuity</em> is active for you and whether your Outlook is ready for it.</p>
<ul>
<li><strong>Classic Outlook for Windows</strong> keeps working during an outage when Cached Exchange Mode is on
(File › Account Settings › Account Settings…, your account, Change…, “Use Cached Exchange Mode”).</li>
<li><strong>Outlook for Mac</strong> always keeps a local copy of your mailbox.</li>
<li><strong>New Outlook for Windows, Outlook on the web and Outlook mobile</strong> stop when Exchange does: use the Lifeboat continuity inbox instead.</li>
</ul>
<p>For help, contact your IT administrator: they run this Lifeboat service.</p>
</main>`;

module.exports = (_env, argv) => {
  const production = argv.mode === 'production';
  return {
    mode: production ? 'production' : 'development',
    // No eval-based maps even in development: the CSP (script-src 'self') refuses eval, in every page.
    devtool: production ? 'source-map' : 'cheap-module-source-map',
    entry: {
      taskpane: './addin/taskpane/index.tsx',
      commands: './addin/commands/commands.ts',
      // The same handler for classic Outlook on Windows' JavaScript-only event runtime: the manifest
      // names this file (JSRuntime.Url), so it has a stable name without a content hash.
      launchevent: './addin/commands/commands.ts',
      admin: './addin/admin/index.tsx',
      // The web continuity inbox at / and its service worker (a stable name: the browser re-checks /sw.js).
      inbox: './addin/inbox/index.tsx',
      sw: './addin/inbox/sw.ts',
    },
    output: {
      path: path.resolve(__dirname, 'server/public/build'),
      filename: (data) => (data.chunk && ['launchevent', 'sw'].includes(data.chunk.name) ? '[name].js' : '[name].[contenthash:8].js'),
      chunkFilename: '[name].[contenthash:8].js',
      publicPath: '/addin/',
      clean: true,
    },
    resolve: { extensions: ['.tsx', '.ts', '.js'] },
    module: { rules: [{ test: /\.[jt]sx?$/, exclude: /node_modules/, use: swc }] },
    plugins: [
      new HtmlWebpackPlugin({ filename: 'taskpane.html', chunks: ['taskpane'], templateContent: page('Lifeboat') }),
      new HtmlWebpackPlugin({ filename: 'commands.html', chunks: ['commands'], templateContent: page('Lifeboat commands', '') }),
      new HtmlWebpackPlugin({ filename: 'support.html', chunks: [], templateContent: page('Lifeboat for Outlook: help', SUPPORT_BODY, false) }),
      // The admin page is served at /admin (server/admin/routes.ts), its bundle beside it.
      new HtmlWebpackPlugin({
        filename: 'admin.html',
        chunks: ['admin'],
        publicPath: '/admin/',
        templateContent: page('Lifeboat admin', '<div id="root"></div>', false),
      }),
      // The continuity inbox is served at / (server/inbox/routes.ts), its bundles under /inbox/.
      new HtmlWebpackPlugin({
        filename: 'inbox.html',
        chunks: ['inbox'],
        publicPath: '/inbox/',
        templateContent: page('Lifeboat', '<div id="root"></div>', false).replace(
          '</head>',
          '<link rel="manifest" href="/manifest.webmanifest"><meta name="theme-color" content="#0f6cbd">' +
            '<link rel="apple-touch-icon" href="/addin/assets/icon-192.png"></head>',
        ),
      }),
      new CopyWebpackPlugin({ patterns: [{ from: 'addin/assets/*.png', to: 'assets/[name][ext]' }] }),
    ],
    performance: { hints: false },
  };
};

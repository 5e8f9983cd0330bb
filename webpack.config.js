// Builds the browser code (the Outlook task pane; later the admin page) into the server's static
// files. TypeScript is transformed by swc; type checking is `npm run typecheck`.
const path = require('node:path');
const HtmlWebpackPlugin = require('html-webpack-plugin');

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

module.exports = (_env, argv) => {
  const production = argv.mode === 'production';
  return {
    mode: production ? 'production' : 'development',
    devtool: production ? 'source-map' : 'eval-source-map',
    entry: {
      taskpane: './addin/taskpane/index.tsx',
    },
    output: {
      path: path.resolve(__dirname, 'server/public/build'),
      filename: '[name].[contenthash:8].js',
      publicPath: '/addin/',
      clean: true,
    },
    resolve: { extensions: ['.tsx', '.ts', '.js'] },
    module: { rules: [{ test: /\.[jt]sx?$/, exclude: /node_modules/, use: swc }] },
    plugins: [
      new HtmlWebpackPlugin({
        filename: 'taskpane.html',
        chunks: ['taskpane'],
        title: 'Lifeboat',
        templateContent: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Lifeboat</title></head><body><div id="root"></div></body></html>`,
      }),
    ],
    performance: { hints: false },
  };
};

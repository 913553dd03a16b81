'use strict';
// The sandbox's Parse Server: the real parse-server package, configured from one JSON document.
//
//   CUTOVER_PARSE_CONFIG='{"port": 1337, ...}' node server.js
//   CUTOVER_PARSE_CONFIG_FILE=/path/config.json node server.js
//
// Modules are resolved through NODE_PATH (the caller installs them into a cache directory, not here).
// Config keys: port, host, mountPath, appId, masterKey, restKey, javascriptKey, fileKey, databaseURI,
// serverURL, publicServerURL, cloud, logLevel, files. files is {kind: "gridfs"} (Parse's default
// adapter, on the database) or {kind: "s3", endpoint, bucket, region, accessKeyId, secretAccessKey,
// directAccess, bucketPrefix, baseUrl}.
const fs = require('fs');
const { ParseServer } = require('parse-server');

function readConfig() {
  const inline = process.env.CUTOVER_PARSE_CONFIG;
  const file = process.env.CUTOVER_PARSE_CONFIG_FILE;
  if (inline) return JSON.parse(inline);
  if (file) return JSON.parse(fs.readFileSync(file, 'utf8'));
  throw new Error('set CUTOVER_PARSE_CONFIG (JSON) or CUTOVER_PARSE_CONFIG_FILE (path to JSON)');
}

function s3Adapter(files) {
  const S3Adapter = require('@parse/s3-files-adapter');
  return new S3Adapter({
    bucket: files.bucket,
    region: files.region || 'us-east-1',
    bucketPrefix: files.bucketPrefix || '',
    directAccess: Boolean(files.directAccess),
    baseUrl: files.baseUrl || undefined,
    s3overrides: {
      endpoint: files.endpoint,
      forcePathStyle: true, // moto and most S3 stand-ins serve buckets by path, not by host name
      credentials: { accessKeyId: files.accessKeyId, secretAccessKey: files.secretAccessKey },
    },
  });
}

function filesAdapter(files) {
  const kind = (files && files.kind) || 'gridfs';
  if (kind === 's3') return s3Adapter(files);
  if (kind === 'gridfs') return undefined; // Parse's default: GridFS in the database of databaseURI
  throw new Error(`files.kind must be "s3" or "gridfs", not ${JSON.stringify(kind)}`);
}

function parseOptions(config) {
  return {
    appId: config.appId,
    masterKey: config.masterKey,
    restAPIKey: config.restKey,
    javascriptKey: config.javascriptKey,
    fileKey: config.fileKey,
    databaseURI: config.databaseURI,
    serverURL: config.serverURL,
    publicServerURL: config.publicServerURL || config.serverURL,
    cloud: config.cloud || undefined,
    filesAdapter: filesAdapter(config.files),
    port: config.port,
    host: config.host || '127.0.0.1',
    mountPath: config.mountPath || '/parse',
    allowClientClassCreation: false,
    masterKeyIps: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
    logLevel: config.logLevel || 'warn',
    logsFolder: null, // log to stdout only (the sandbox captures it), never into a ./logs folder
    verifyServerUrl: false, // we probe /health ourselves; the built-in check only logs a warning
    enableInsecureAuthAdapters: false,
  };
}

async function main() {
  const config = readConfig();
  const options = parseOptions(config);
  await ParseServer.startApp(options);
  console.log(`parse-server ready on http://${options.host}:${options.port}${options.mountPath}`);
}

main().catch((error) => {
  console.error('parse-server failed to start:', error);
  process.exit(1);
});

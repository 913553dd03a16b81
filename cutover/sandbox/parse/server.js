'use strict';
// The sandbox's Parse Server: the real parse-server package, configured from one JSON document.
//
//   CUTOVER_PARSE_CONFIG='{"port": 1337, ...}' node server.js
//   CUTOVER_PARSE_CONFIG_FILE=/path/config.json node server.js
//
// Modules are resolved through NODE_PATH (the caller installs them into a cache directory, not here).
// Config keys: port, host, mountPath, appId, masterKey, restKey, javascriptKey, fileKey, databaseURI,
// serverURL, publicServerURL, cloud, logLevel, files. files is {kind: "gridfs"} (Parse's default
// adapter, on the database), {kind: "s3", endpoint, bucket, region, accessKeyId, secretAccessKey,
// directAccess, bucketPrefix, baseUrl} or {kind: "gcs", bucket, bucketPrefix, directAccess, baseUrl,
// apiEndpoint, projectId, keyFilename}.
const fs = require('fs');
const path = require('path');
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

// @parse/gcs-files-adapter hands its options to @google-cloud/storage's Storage as they are: apiEndpoint
// points the client at an emulator (and, being a custom endpoint, turns authentication off); keyFilename
// names a service-account key for a real bucket.
function gcsAdapter(files) {
  const GCSAdapter = require('@parse/gcs-files-adapter');
  if (files.apiEndpoint) {
    // With STORAGE_EMULATOR_HOST set, @google-cloud/storage 7 sends JSON API calls to that host without
    // the /storage/v1 prefix, whatever apiEndpoint says: an inherited value must not win over ours.
    delete process.env.STORAGE_EMULATOR_HOST;
    uploadInOnePartForEmulator();
  }
  const adapter = new GCSAdapter({
    bucket: files.bucket,
    bucketPrefix: files.bucketPrefix || '',
    directAccess: Boolean(files.directAccess),
    projectId: files.projectId || undefined,
    apiEndpoint: files.apiEndpoint || undefined,
    keyFilename: files.keyFilename || undefined,
  });
  if (files.baseUrl) serveDirectAccessFrom(adapter, files.bucket, files.baseUrl);
  return adapter;
}

// Emulator shim. The adapter writes through createWriteStream, a resumable upload by default, and the
// Node client puts the content type of a resumable upload only in the X-Upload-Content-Type header,
// which fake-gcs-server 1.54 ignores (its issue #1098): every file would be stored as
// application/octet-stream, where real GCS keeps the type Parse sent. A one-part (multipart) upload
// carries the type in the object's JSON metadata, which the emulator honours; the stored object is the
// same as real GCS stores from a resumable one. Patched on the adapter's own copy of the client.
function uploadInOnePartForEmulator() {
  const adapterDir = path.dirname(require.resolve('@parse/gcs-files-adapter'));
  const { File } = require(require.resolve('@google-cloud/storage', { paths: [adapterDir] }));
  if (File.prototype.createWriteStream.cutoverOnePart) return;
  const createWriteStream = File.prototype.createWriteStream;
  File.prototype.createWriteStream = function (options) {
    return createWriteStream.call(this, { ...(options || {}), resumable: false });
  };
  File.prototype.createWriteStream.cutoverOnePart = true;
}

// The GCS adapter has no baseUrl option: under directAccess it always answers
// https://storage.googleapis.com/<bucket>/<bucketPrefix><name>, which an emulator cannot serve. This
// sandbox-only shim keeps the adapter's own location and swaps that origin and bucket for baseUrl
// (e.g. http://127.0.0.1:<port>/<bucket>), so direct-access URLs reach the emulator.
function serveDirectAccessFrom(adapter, bucket, baseUrl) {
  const original = adapter.getFileLocation.bind(adapter);
  const googleBase = `https://storage.googleapis.com/${bucket}/`;
  adapter.getFileLocation = (config, filename) => {
    const location = original(config, filename);
    if (!location.startsWith(googleBase)) return location;
    return `${baseUrl.replace(/\/+$/, '')}/${location.slice(googleBase.length)}`;
  };
}

function filesAdapter(files) {
  const kind = (files && files.kind) || 'gridfs';
  if (kind === 's3') return s3Adapter(files);
  if (kind === 'gcs') return gcsAdapter(files);
  if (kind === 'gridfs') return undefined; // Parse's default: GridFS in the database of databaseURI
  throw new Error(`files.kind must be "s3", "gcs" or "gridfs", not ${JSON.stringify(kind)}`);
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

// A small Parse Server app, as deployed: every key and URI comes from the environment, none is written here.
const express = require('express');
const { ParseServer } = require('parse-server');

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`missing environment variable ${name}`);
  }
  return value;
}

const config = {
  databaseURI: required('DATABASE_URI'),          // e.g. mongodb+srv://app:${DB_PASSWORD}@cluster0.example.net/app
  appId: required('PARSE_APP_ID'),
  masterKey: required('PARSE_MASTER_KEY'),
  fileKey: process.env.PARSE_FILE_KEY,
  serverURL: required('PARSE_SERVER_URL'),
  cloud: `${__dirname}/cloud/main.js`,
  filesAdapter: {
    module: '@parse/s3-files-adapter',
    options: {
      bucket: required('S3_BUCKET'),
      region: process.env.S3_REGION || 'eu-west-1',
      // credentials: the AWS SDK reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the instance role
    },
  },
};

async function main() {
  const app = express();
  const server = new ParseServer(config);
  await server.start();
  app.use('/parse', server.app);
  const port = Number(process.env.PORT || 1337);
  app.listen(port, () => console.log(`parse-server listening on ${port}`));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

'use strict';
// The official Parse JavaScript SDK (npm `parse`, pinned in package.json and its lock), driven by cutover's
// SDK round-trips (cutover/rest/sdk_client.py) as an app drives it: Parse.Object, Parse.Query, Parse.File,
// Parse.User. The SDK itself builds every request: a POST whose JSON body carries _method, _ApplicationId,
// _JavaScriptKey or _MasterKey, _ClientVersion, _InstallationId and _SessionToken.
//
//   NODE_PATH=<cache>/parse-sdk/node_modules node driver.js
//
// One JSON request per stdin line, {"id": 1, "op": "save", ...}; one answer per stdout line, {"id": 1, "ok":
// true, "result": ..., "http": [...]} or {"id": 1, "ok": false, "error": {"code", "message"}, "http": [...]}.
// "http" lists the HTTP exchanges the SDK made for that request (method, path, the tunnelled _method, status,
// the start of any answer outside 2xx), so that a failure can say what the server or a front answered.
// Requests are served one at a time, in order. The driver ends when stdin closes. Values travel in Parse's
// REST JSON form: the driver decodes them into SDK values (Date, Parse.GeoPoint, Parse.File, pointers) and
// answers with Parse.Object#toJSON().
const readline = require('readline');
const Parse = require('parse/node');

const SNIPPET = 300;
console.log = console.info = console.warn = console.error; // stdout carries answers only

// -- the HTTP tap: what the SDK sent and what came back ------------------------------------------------------
let exchanges = [];
const realFetch = globalThis.fetch;

function tunnelled(body) {
  if (typeof body !== 'string') return '';
  try {
    return JSON.parse(body)._method || '';
  } catch {
    return '';
  }
}

globalThis.fetch = async function tappedFetch(url, options = {}) {
  const seen = { method: options.method || 'GET', path: new URL(String(url)).pathname,
                 tunnelled: tunnelled(options.body) };
  exchanges.push(seen);
  try {
    const response = await realFetch(url, options);
    seen.status = response.status;
    if (response.status < 200 || response.status >= 300) {
      const text = await response.clone().text();
      seen.answer = text.replace(/\s+/g, ' ').slice(0, SNIPPET);
    }
    return response;
  } catch (err) {
    seen.error = `${err.message}${err.cause && err.cause.code ? ` (${err.cause.code})` : ''}`;
    throw err;
  }
};

// -- values ---------------------------------------------------------------------------------------------------
const objects = new Map(); // objectId -> the Parse.Object this app saved (updates go through it)

function decode(value) {
  return Parse._decode(null, value);
}

function objectOf(cls, id) {
  return objects.get(id) || Parse.Object.extend(cls).createWithoutData(id);
}

function applyOp(object, key, op) {
  const items = (op.objects || []).map(decode);
  switch (op.__op) {
    case 'AddRelation': return object.relation(key).add(items);
    case 'RemoveRelation': return object.relation(key).remove(items);
    case 'Increment': return object.increment(key, op.amount);
    case 'AddUnique': return object.addAllUnique(key, items);
    case 'Add': return object.addAll(key, items);
    case 'Remove': return object.removeAll(key, items);
    case 'Delete': return object.unset(key);
    default: throw new Error(`unknown operation ${op.__op} on ${key}`);
  }
}

function setFields(object, fields) {
  for (const [key, value] of Object.entries(fields || {})) {
    if (key === 'ACL') object.setACL(new Parse.ACL(value));
    else if (value && typeof value === 'object' && typeof value.__op === 'string') applyOp(object, key, value);
    else object.set(key, decode(value));
  }
}

function userJSON(user) {
  return user ? { ...user.toJSON(), sessionToken: user.getSessionToken() } : null;
}

function auth(request) {
  return request.master ? { useMasterKey: true } : {};
}

// -- operations -----------------------------------------------------------------------------------------------
const OPS = {
  async init(r) {
    Parse.initialize(r.appId, r.javascriptKey || undefined, r.masterKey || undefined);
    Parse.serverURL = r.serverURL;
    Parse.User.enableUnsafeCurrentUser(); // an app's current user (the SDK disables it under Node by default)
    await Parse.User.enableRevocableSession();
    if (r.installationId) { // the id this app installation keeps, as a device that already had one
      await Parse.Storage.setItemAsync(Parse.Storage.generatePath('currentInstallationId'), r.installationId);
    }
    return { version: Parse.CoreManager.get('VERSION'), installationId: await Parse._getInstallationId() };
  },
  async save(r) {
    const object = r.objectId ? objectOf(r.cls, r.objectId) : new Parse.Object(r.cls);
    setFields(object, r.set);
    await object.save(null, auth(r));
    objects.set(object.id, object);
    return object.toJSON();
  },
  async get(r) {
    return (await new Parse.Query(r.cls).get(r.objectId, auth(r))).toJSON();
  },
  async find(r) {
    const query = new Parse.Query(r.cls);
    for (const [key, value] of Object.entries(r.equal || {})) query.equalTo(key, decode(value));
    return (await query.find(auth(r))).map((o) => o.toJSON());
  },
  async related(r) {
    const found = await objectOf(r.cls, r.objectId).relation(r.key).query().find(auth(r));
    return found.map((o) => o.toJSON());
  },
  async destroy(r) {
    await objectOf(r.cls, r.objectId).destroy(auth(r));
    objects.delete(r.objectId);
    return null;
  },
  async upload(r) {
    const data = r.binary ? Buffer.from(r.base64, 'base64') : { base64: r.base64 };
    const file = new Parse.File(r.name, data, r.type);
    await file.save(auth(r));
    return { name: file.name(), url: file.url() };
  },
  async download(r) {
    return { base64: await Parse.File.fromJSON({ __type: 'File', name: r.name, url: r.url }).getData() };
  },
  async signUp(r) {
    const user = new Parse.User();
    user.set({ username: r.username, password: r.password, email: r.email });
    return userJSON(await user.signUp());
  },
  async logIn(r) {
    return userJSON(await Parse.User.logIn(r.username, r.password));
  },
  async current() {
    return userJSON(Parse.User.current());
  },
  async become(r) {
    return userJSON(await Parse.User.become(r.sessionToken));
  },
  async logOut() {
    await Parse.User.logOut();
    return { current: userJSON(Parse.User.current()) };
  },
};

// -- the loop -------------------------------------------------------------------------------------------------
function errorOf(err) {
  if (err && typeof err === 'object') return { code: err.code ?? null, message: String(err.message || err) };
  return { code: null, message: String(err) };
}

async function serve(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    return { id: null, ok: false, error: errorOf(err), http: [] };
  }
  exchanges = [];
  const op = OPS[request.op];
  try {
    if (!op) throw new Error(`unknown op ${request.op}`);
    return { id: request.id, ok: true, result: await op(request), http: exchanges };
  } catch (err) {
    return { id: request.id, ok: false, error: errorOf(err), http: exchanges };
  }
}

function main() {
  let queue = Promise.resolve();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    queue = queue.then(async () => process.stdout.write(`${JSON.stringify(await serve(line))}\n`));
  });
  lines.on('close', () => queue.then(() => process.exit(0)));
  process.on('unhandledRejection', (reason) => console.error(`driver: unhandled rejection: ${reason}`));
}

main();

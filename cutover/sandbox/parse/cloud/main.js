'use strict';
// Cloud Code of the sandbox app: what the API-05 checks call with declared samples.

Parse.Cloud.define('hello', () => 'Hello world!');

// The average of GameScore.score over the scores of one player (or all): a cloud query with the master key.
Parse.Cloud.define('averageScore', async (request) => {
  const query = new Parse.Query('GameScore');
  if (request.params.playerName) {
    query.equalTo('playerName', request.params.playerName);
  }
  query.limit(1000);
  const results = await query.find({ useMasterKey: true });
  if (results.length === 0) {
    return { count: 0, average: null };
  }
  const total = results.reduce((sum, object) => sum + object.get('score'), 0);
  return { count: results.length, average: total / results.length };
});

// A declared error case: a missing "name" parameter is answered with Parse error 141 (SCRIPT_FAILED).
Parse.Cloud.define('greet', (request) => {
  const name = request.params.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new Parse.Error(Parse.Error.SCRIPT_FAILED, 'greet needs a non-empty "name" parameter');
  }
  return `Hello ${name}!`;
});

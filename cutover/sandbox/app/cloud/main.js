Parse.Cloud.define('hello', () => 'Hello world!');

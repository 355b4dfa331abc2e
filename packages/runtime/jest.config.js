module.exports = {
  ...require('../../jest.preset.js'),
  testTimeout: 30000,
  // A test file's memory stays reachable after the file ends. nock 14's interceptor makes a web ReadableStream per
  // intercepted request; Node 20 keeps each one in its environment's cleanup queue, and with it the promises and
  // closures of the file that made it. The differential fuzz files send ~100,000 requests each and keep 400–800 MB
  // that way; in one process the suite reached Node's 4 GB heap limit. A worker that uses more than 1 GB after a file
  // is replaced with a fresh one.
  workerIdleMemoryLimit: '1GB'
}

// Zombienet step: what Polkadot.js Apps does first when a browser opens the printed link. It
// opens a WebSocket to the node from the page's origin (https://polkadot.js.org), which the node
// must accept (CORS), and asks which chain this is and its token: "Provena Testnet", PRV, 12
// decimals, SS58 format 42.
//
// Usage: alice: js-script ./steps/apps-origin.js within 30 seconds

const WebSocket = require('ws');

function ask(socket, method) {
  return new Promise((resolve, reject) => {
    const id = Math.floor(Math.random() * 1e9);
    const onMessage = (data) => {
      const reply = JSON.parse(data.toString());
      if (reply.id !== id) return;
      socket.off('message', onMessage);
      if (reply.error) reject(new Error(`${method}: ${JSON.stringify(reply.error)}`));
      else resolve(reply.result);
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: [] }));
  });
}

async function run(nodeName, networkInfo) {
  const { wsUri } = networkInfo.nodesByName[nodeName];
  const socket = new WebSocket(wsUri, { origin: 'https://polkadot.js.org' });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`${wsUri} refused the Apps origin: HTTP ${response.statusCode}`)));
    socket.once('error', reject);
  });
  try {
    const chain = await ask(socket, 'system_chain');
    const properties = await ask(socket, 'system_properties');
    const expected = { ss58Format: 42, tokenDecimals: 12, tokenSymbol: 'PRV' };
    if (chain !== 'Provena Testnet') throw new Error(`system_chain is ${chain}`);
    for (const [key, value] of Object.entries(expected)) {
      if (properties[key] !== value) throw new Error(`system_properties.${key} is ${properties[key]}, not ${value}`);
    }
    console.log(`      ${nodeName}: Apps' origin accepted; ${chain}, ${properties.tokenSymbol}, ${properties.tokenDecimals} decimals, SS58 ${properties.ss58Format}`);
    return 1;
  } finally {
    socket.close();
  }
}

module.exports = { run };

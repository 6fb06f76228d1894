'use strict';
// An Aedes broker on 127.0.0.1:PORT (plain TCP), the backend of the compatibility matrix.
// Usage: node aedes_broker.js PORT. Prints "listening PORT" once it accepts connections.
const net = require('net');
const createBroker = require('aedes');

const port = Number(process.argv[2]);
const broker = createBroker();
const server = net.createServer(broker.handle);
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
const stop = () => server.close(() => broker.close(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

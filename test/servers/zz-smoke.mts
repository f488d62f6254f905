import { startStorachaServer } from "/work/wt-storacha/test/servers/storacha-server.ts";
const added: string[] = [];
const s = await startStorachaServer({ addBlock: (cid) => added.push(cid.toString()) });
console.log(JSON.stringify(s.fixture, null, 1).slice(0, 3000), added.length);
await s.close();
process.exit(0);

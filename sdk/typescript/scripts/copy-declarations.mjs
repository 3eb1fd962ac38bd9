// tsc emits no .d.ts for a .d.ts source: the generated schema.d.ts, which dist/client.d.ts
// imports, is copied beside it.
import { copyFileSync } from "node:fs";

copyFileSync(new URL("../src/schema.d.ts", import.meta.url), new URL("../dist/schema.d.ts", import.meta.url));

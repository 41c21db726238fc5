#!/usr/bin/env node
// The sources are TypeScript; tsx compiles them on load so the bin runs them directly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../core/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

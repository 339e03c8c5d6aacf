import fc from "fast-check";
import { scenario } from "./randomprog.ts";
const s = fc.sample(scenario, { numRuns: 300, seed: 20240601 })[137];
console.log(JSON.stringify(s));

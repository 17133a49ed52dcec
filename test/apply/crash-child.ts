// A process that applies one generation of a large change set and, if told to, is SIGKILLed
// after a delay: the crash test's victim. argv: root stateDir generation killAfterMs (-1: never).
import { NodeApplier } from '../../agent/apply/engine.ts';
import { NoServices } from '../../agent/apply/services.ts';
import { silentLogger } from '../../shared/log/logger.ts';
import { crashFiles } from './crash-files.ts';

const [root, stateDir, gen, kill] = process.argv.slice(2);
const killAfter = Number(kill);
if (killAfter >= 0) setTimeout(() => process.kill(process.pid, 'SIGKILL'), killAfter);
const applier = new NodeApplier({ root: root!, stateDir: stateDir!, log: silentLogger(), services: new NoServices(null, 'crash test') });
await applier.apply(crashFiles(Number(gen)));
process.stdout.write('done\n');

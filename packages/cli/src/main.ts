import { Command } from 'commander';
import { serverCommand } from './commands/server.js';

const program = new Command();
program.name('cairn').description('Cairn: a model registry that speaks ClearML\'s API').version('0.1.0');
program.addCommand(serverCommand());

await program.parseAsync(process.argv);

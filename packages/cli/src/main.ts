import { Command } from 'commander';

/**
 * Each command's module is loaded only when that command runs: `cairn server` must not load the SDK and its
 * cloud storage clients (a second of start time and ~80 MB), nor `cairn models` the server. Help and unknown
 * commands load them all.
 */
const commands: Record<string, () => Promise<Command>> = {
  server: async () => (await import('./commands/server.js')).serverCommand(),
  models: async () => (await import('./commands/models.js')).modelsCommand(),
  agent: async () => (await import('./commands/agent.js')).agentCommand(),
  task: async () => (await import('./commands/task.js')).taskCommand(),
};

const program = new Command();
program.name('cairn').description('Cairn: a model registry that speaks ClearML\'s API').version('0.1.0');
const wanted = process.argv[2];
for (const name of wanted && wanted in commands ? [wanted] : Object.keys(commands)) program.addCommand(await commands[name]!());

await program.parseAsync(process.argv);

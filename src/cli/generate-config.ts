// `axon generate-config`: a new homeserver.yaml and signing key.
import { generateConfigFiles } from '../config/generate.js';

export interface GenerateConfigArgs {
  serverName: string;
  config: string;
  dataDir?: string;
}

export function generateConfigCommand(args: GenerateConfigArgs): void {
  const files = generateConfigFiles({ serverName: args.serverName, configPath: args.config, dataDir: args.dataDir });
  process.stdout.write(
    [
      `wrote ${files.configPath}`,
      `wrote ${files.signingKeyPath} (the server's signing key: keep it secret and back it up)`,
      `data directory: ${files.dataDir}`,
      `start the server with: axon start --config ${files.configPath}`,
      '',
    ].join('\n'),
  );
}

import { COMPATIBLE_SERVER_VERSION, MAX_API_VERSION, server } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { CAIRN_VERSION } from '../auth/tokens.js';
import { DEFAULT_COMPANY_ID } from '../auth/bootstrap.js';

export const info = defineHandler(server.info, async () => ({
  version: COMPATIBLE_SERVER_VERSION,
  build: `cairn-${CAIRN_VERSION}`,
  commit: 'cairn',
  uid: DEFAULT_COMPANY_ID,
  api_version: MAX_API_VERSION,
  cairn_version: CAIRN_VERSION,
}));

/** Cairn collects no usage statistics, so the option is reported as unsupported. */
export const reportStatsOption = defineHandler(server.report_stats_option, async () => ({
  supported: false,
  enabled: false,
  enabled_time: null,
  enabled_version: null,
  enabled_user: null,
  current_version: COMPATIBLE_SERVER_VERSION,
}));

export const serverHandlers = [info, reportStatsOption];

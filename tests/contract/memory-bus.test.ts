import { createMemoryBus } from '../../src/channels/memory';
import { busContract } from './bus.contract';

busContract('memory', async () => createMemoryBus());

import type { Scenario } from './scenario.ts';
import roomDocQueries from './scenarios/roomDocQueries.ts';
import durability from './scenarios/durability.ts';
import peerColdLoad from './scenarios/peerColdLoad.ts';
import peerFanout from './scenarios/peerFanout.ts';
import openLoopFanout from './scenarios/openLoopFanout.ts';
import noisyNeighbour from './scenarios/noisyNeighbour.ts';
import peerJoinStorm from './scenarios/peerJoinStorm.ts';
import peerIdleMemory from './scenarios/peerIdleMemory.ts';
import peerManyRooms from './scenarios/peerManyRooms.ts';
import peerPresence from './scenarios/peerPresence.ts';
import syncLatency from './scenarios/syncLatency.ts';
import updateValidation from './scenarios/updateValidation.ts';
import clientStartup from './scenarios/clientStartup.ts';
import userFeed from './scenarios/userFeed.ts';
import webAppLoad from './scenarios/webAppLoad.ts';
import commandFanout from './scenarios/commandFanout.ts';
import largeRoom from './scenarios/largeRoom.ts';
import largeRoomNeighbour from './scenarios/largeRoomNeighbour.ts';
import webAppLargeRoom from './scenarios/webAppLargeRoom.ts';
import manyLargeRooms from './scenarios/manyLargeRooms.ts';
import threadOps from './scenarios/threadOps.ts';
import searchLatency from './scenarios/searchLatency.ts';
import searchIndexing from './scenarios/searchIndexing.ts';
import attachmentUpload from './scenarios/attachmentUpload.ts';
import roomConversion from './scenarios/roomConversion.ts';

/** Every benchmark `npm run bench` runs, in this order. Add new scenarios here. */
export const scenarios: readonly Scenario[] = [roomDocQueries, threadOps, updateValidation, syncLatency, commandFanout, clientStartup, webAppLoad, largeRoom, largeRoomNeighbour, roomConversion, webAppLargeRoom, peerFanout, openLoopFanout, noisyNeighbour, durability, peerManyRooms, peerPresence, peerColdLoad, peerJoinStorm, peerIdleMemory, userFeed, manyLargeRooms, searchLatency, searchIndexing, attachmentUpload];

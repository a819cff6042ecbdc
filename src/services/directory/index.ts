// Room discovery: aliases and the public room directory.
export { AliasService, type AliasActor, type AliasServiceDeps } from './aliases.js';
export { PublicRoomsService, type PublicRoomsPage, type PublicRoomsQuery, type Visibility } from './public-rooms.js';

import type { Migration } from './index.js';

// A local user invited to (or knocking on) a room this server is not in has
// a membership row like any other, set from the invite or knock event, which
// is stored as an outlier. What the user may see of the room before joining
// is the stripped state the other server sent with it (invite_room_state,
// knock_room_state), kept here because this server has no state of its own.
export const outOfRoomMembershipsMigration: Migration = {
  id: 19,
  name: 'out_of_room_memberships',
  statements: [
    `CREATE TABLE room_stripped_states (
      room_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      stripped_state TEXT NOT NULL,
      PRIMARY KEY (room_id, user_id)
    )`,
  ],
};

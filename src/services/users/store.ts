/** SQL for users and brokerages. Every statement is here, visible; callers pass a Db or a transaction. */
import type { Queryable } from '../../platform/db/types.ts';
import type { Role, UserView } from './client.ts';
import { conflict } from './problems.ts';

export interface UserRow {
  id: string;
  seq: number;
  username: string;
  email: string;
  display_name: string | null;
  password_hash: string;
  role: Role;
  brokerage_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface BrokerageRow {
  id: string;
  seq: number;
  name: string;
  created_at: Date;
}

const USER_COLUMNS =
  'id, seq, username, email, display_name, password_hash, role, brokerage_id, created_at, updated_at';

/** The only shape in which a user leaves the service: no hash, ever. */
export function userView(r: UserRow): UserView {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    display_name: r.display_name,
    role: r.role,
    brokerage_id: r.brokerage_id,
    created_at: r.created_at.toISOString(),
  };
}

export function brokerageView(r: BrokerageRow): { id: string; name: string; created_at: string } {
  return { id: r.id, name: r.name, created_at: r.created_at.toISOString() };
}

/** PostgreSQL and PGlite both report unique violations as SQLSTATE 23505 and name the index. */
function uniqueViolation(err: unknown): string | null {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code !== '23505') return null;
  return e.constraint ?? e.message ?? '';
}

export function rethrowUserConflict(err: unknown): never {
  const which = uniqueViolation(err);
  if (which?.includes('users_username_key'))
    throw conflict('username-taken', 'username is already taken', 'username');
  if (which?.includes('users_email_key'))
    throw conflict('email-taken', 'email is already registered', 'email');
  throw err;
}

export async function userById(q: Queryable, id: string): Promise<UserRow | null> {
  const { rows } = await q.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** By username or email, case-insensitively; usernames cannot contain '@' so the two never collide. */
export async function userByLogin(q: Queryable, login: string): Promise<UserRow | null> {
  const column = login.includes('@') ? 'email' : 'username';
  const { rows } = await q.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE lower(${column}) = lower($1)`,
    [login],
  );
  return rows[0] ?? null;
}

export async function insertUser(
  q: Queryable,
  u: {
    id: string;
    username: string;
    email: string;
    passwordHash: string;
    role: Role;
    brokerageId: string | null;
    now: Date;
  },
): Promise<UserRow> {
  try {
    const { rows } = await q.query<UserRow>(
      `INSERT INTO users (id, username, email, password_hash, role, brokerage_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ${USER_COLUMNS}`,
      [u.id, u.username, u.email, u.passwordHash, u.role, u.brokerageId, u.now],
    );
    return rows[0]!;
  } catch (err) {
    return rethrowUserConflict(err);
  }
}

/** Which of the two is already used (case-insensitively): checked first so a 409 costs no hashing. */
export async function takenLogins(
  q: Queryable,
  username: string,
  email: string,
): Promise<'username' | 'email' | null> {
  const { rows } = await q.query<{ username_taken: boolean; email_taken: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1)) AS username_taken,
            EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2)) AS email_taken`,
    [username, email],
  );
  const r = rows[0];
  if (r?.username_taken) return 'username';
  if (r?.email_taken) return 'email';
  return null;
}

export async function listUsers(
  q: Queryable,
  f: { brokerageId?: string | undefined; role?: Role | undefined; afterSeq: number | null; limit: number },
): Promise<UserRow[]> {
  const { rows } = await q.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users
      WHERE ($1::uuid IS NULL OR brokerage_id = $1) AND ($2::text IS NULL OR role = $2) AND seq > $3
      ORDER BY seq LIMIT $4`,
    [f.brokerageId ?? null, f.role ?? null, f.afterSeq ?? 0, f.limit + 1],
  );
  return rows;
}

export async function updateProfile(
  q: Queryable,
  id: string,
  p: {
    email?: string | undefined;
    displayName?: string | null | undefined;
    passwordHash?: string | undefined;
    now: Date;
  },
): Promise<UserRow | null> {
  try {
    const { rows } = await q.query<UserRow>(
      `UPDATE users SET
         email = COALESCE($2, email),
         display_name = CASE WHEN $3::boolean THEN $4 ELSE display_name END,
         password_hash = COALESCE($5, password_hash),
         updated_at = $6
       WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [
        id,
        p.email ?? null,
        p.displayName !== undefined,
        p.displayName ?? null,
        p.passwordHash ?? null,
        p.now,
      ],
    );
    return rows[0] ?? null;
  } catch (err) {
    return rethrowUserConflict(err);
  }
}

export async function setPasswordHash(q: Queryable, id: string, hash: string, now: Date): Promise<void> {
  await q.query('UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1', [id, hash, now]);
}

export async function updateRoleAndTenant(
  q: Queryable,
  id: string,
  role: Role,
  brokerageId: string | null,
  now: Date,
): Promise<UserRow | null> {
  const { rows } = await q.query<UserRow>(
    `UPDATE users SET role = $2, brokerage_id = $3, updated_at = $4 WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    [id, role, brokerageId, now],
  );
  return rows[0] ?? null;
}

// --- brokerages -----------------------------------------------------------------------------

export async function brokerageById(q: Queryable, id: string): Promise<BrokerageRow | null> {
  const { rows } = await q.query<BrokerageRow>(
    'SELECT id, seq, name, created_at FROM brokerages WHERE id = $1',
    [id],
  );
  return rows[0] ?? null;
}

export async function insertBrokerage(
  q: Queryable,
  b: { id: string; name: string; now: Date },
): Promise<BrokerageRow> {
  try {
    const { rows } = await q.query<BrokerageRow>(
      'INSERT INTO brokerages (id, name, created_at) VALUES ($1, $2, $3) RETURNING id, seq, name, created_at',
      [b.id, b.name, b.now],
    );
    return rows[0]!;
  } catch (err) {
    if (uniqueViolation(err)?.includes('brokerages_name_key')) {
      throw conflict('brokerage-name-taken', 'a brokerage with this name exists', 'name');
    }
    throw err;
  }
}

export async function listBrokerages(
  q: Queryable,
  afterSeq: number | null,
  limit: number,
): Promise<BrokerageRow[]> {
  const { rows } = await q.query<BrokerageRow>(
    'SELECT id, seq, name, created_at FROM brokerages WHERE seq > $1 ORDER BY seq LIMIT $2',
    [afterSeq ?? 0, limit + 1],
  );
  return rows;
}

/**
 * Methods that run a callback in one transaction. SQLite's callback calls the repository itself
 * (one connection serves everything); on PostgreSQL it must be handed the repository bound to the
 * transaction's connection, or its queries would run outside the transaction. AsyncApi gives these
 * methods that shape, so that a caller written against it cannot make the mistake.
 */
export type TransactionMethod = 'transaction' | 'batch';

/**
 * The public methods of a synchronous (SQLite) repository, each returning a promise: what its
 * PostgreSQL counterpart implements (`class PgUserRepo implements AsyncApi<UserRepo>`), so the two
 * cannot drift apart, and one contract suite, awaiting every call, runs on both. The transaction
 * methods hand their callback the repository bound to the transaction (TransactionMethod).
 * The server's callers use this shape for either backend: `sqliteAsync` (SqliteAsync.ts) gives it
 * to a SQLite repository.
 */
export type AsyncApi<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? (K extends TransactionMethod ? never : K) : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
} & { [K in Extract<keyof T, TransactionMethod>]: <R>(fn: (tx: AsyncApi<T>) => Promise<R>) => Promise<R> };

/** The API's answer when a change would leave a tenant without an owner (worker/db/owners.ts). */
import { LastOwnerError } from '../db/owners.ts';
import { ApiError } from '../errors.ts';

/** Runs `change`; a LastOwnerError becomes a 409 problem that says what to do instead. */
export async function refuseLastOwner<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (!(error instanceof LastOwnerError)) throw error;
    throw new ApiError(
      'conflict',
      'This would leave the tenant without an owner: make another member or key an owner first.',
    );
  }
}

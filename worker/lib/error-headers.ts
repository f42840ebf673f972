/**
 * Headers some error statuses must carry. A 401 carries a Bearer challenge (RFC 9110 §11.6.1,
 * RFC 6750 §3), with `error="invalid_token"` when a credential was presented and refused; a 403
 * carries `error="insufficient_scope"` (every 403 of this API is a role too weak for the
 * action); a 426 names the protocol to switch to (RFC 9110 §15.5.22). Decided here, from the
 * status and the request, so that every such error gets them wherever it was thrown.
 */
import type { ApiError } from '../errors.ts';

/** The protection space of every credential the API accepts. */
export const AUTH_REALM = 'omni';

/** The challenge a 401 carries when no credential (or no Bearer one) was presented. */
export const BEARER_CHALLENGE = `Bearer realm="${AUTH_REALM}"`;

const DESCRIPTION_MAX_LENGTH = 200;

/**
 * `message` as an `error_description`: RFC 6750 §3 allows printable ASCII without `"` and `\`
 * only, which also keeps the header value well-formed.
 */
function description(message: string): string {
  return message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '').slice(0, DESCRIPTION_MAX_LENGTH);
}

/** True if the request carried a bearer credential: `Authorization: Bearer …` or `?token=`. */
function presentedCredential(request: Request): boolean {
  if (/^Bearer\s+\S/i.test(request.headers.get('authorization') ?? '')) return true;
  return (new URL(request.url).searchParams.get('token') ?? '') !== '';
}

function challenge(error: string, message: string): string {
  const text = description(message);
  const detail = text === '' ? '' : `, error_description="${text}"`;
  return `${BEARER_CHALLENGE}, error="${error}"${detail}`;
}

/** The headers `error`, answered to `request`, must carry besides the problem+json ones. */
export function errorHeaders(error: ApiError, request: Request): Record<string, string> {
  if (error.status === 401) {
    return {
      'WWW-Authenticate': presentedCredential(request)
        ? challenge('invalid_token', error.message)
        : BEARER_CHALLENGE,
    };
  }
  if (error.code === 'forbidden')
    return { 'WWW-Authenticate': challenge('insufficient_scope', error.message) };
  if (error.code === 'upgrade_required') return { Upgrade: 'websocket', Connection: 'Upgrade' };
  return {};
}

// The gateway's read API (see `provena_client::gateway::service::dashboard`). A gateway with
// an HTTP token answers only requests that carry it: the dashboard asks for it once and keeps
// it for this browser tab (sessionStorage), never in the page's address.

const TOKEN_KEY = 'provena-gateway-token';

export class NeedsToken extends Error {}

export class GatewayError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function request(path) {
  let response;
  try {
    response = await fetch(path, { headers: headers(), cache: 'no-store' });
  } catch (e) {
    throw new GatewayError(0, `the gateway does not answer (${e.message}); is it running?`);
  }
  if (response.status === 401) throw new NeedsToken('this gateway wants its HTTP token');
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).error || message;
    } catch { /* not JSON: keep the status line */ }
    throw new GatewayError(response.status, message);
  }
  return response;
}

async function json(path) {
  return (await request(path)).json();
}

export const gateway = {
  info: () => json('/v1/info'),
  devices: async () => (await json('/v1/devices')).devices,
  device: (id) => json(`/v1/devices/${id}?anchors=25&holes=50`),
  newest: async (id, n) => (await json(`/v1/devices/${id}/readings?newest=${n}`)).readings,
  /** The proof bundle of a reading, as a Blob, and the file name the gateway suggests. */
  proof: async (id, seq) => {
    const response = await request(`/v1/devices/${id}/readings/${seq}/proof`);
    const disposition = response.headers.get('content-disposition') || '';
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] || `provena-proof-${seq}.json`;
    return { blob: await response.blob(), name };
  },
};

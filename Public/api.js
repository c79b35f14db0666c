// The HTTP API as the browser uses it: JSON in and out, the session in an HttpOnly cookie.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body) {
  const options = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, options);
  } catch {
    throw new ApiError(0, 'offline', 'Cannot reach the server. Check your connection and try again.');
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: 'http_' + response.status, message: response.statusText };
    throw new ApiError(response.status, error.code, error.message, response.headers.get('Retry-After'));
  }
  return data;
}

/**
 * The type to claim for a file: the browser's, except for CSV (Windows calls it an Excel file);
 * none (`application/octet-stream`) when the browser does not know, as for HEIC photos on most
 * systems: the server then finds the type from the bytes.
 */
function claimedType(file, name) {
  if (/\.csv$/i.test(name)) return 'text/csv';
  return file.type || 'application/octet-stream';
}

/** Uploads a file as a raw body (with how long it lasts, for a voice note); returns `{attachment}`. */
export async function upload(file, name, { durationMs } = {}) {
  let response;
  name = name || file.name || 'file';
  const duration = durationMs ? `&duration=${Math.round(durationMs)}` : '';
  try {
    response = await fetch(`/api/v1/attachments?name=${encodeURIComponent(name)}${duration}`, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': claimedType(file, name) }, body: file,
    });
  } catch {
    throw new ApiError(0, 'offline', 'Cannot reach the server to upload; try again when online.');
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: 'http_' + response.status, message: response.statusText };
    throw new ApiError(response.status, error.code, error.message);
  }
  return data;
}

export const deviceName = () => {
  const agent = navigator.userAgent;
  const browser = /Edg\//.test(agent) ? 'Edge' : /Firefox\//.test(agent) ? 'Firefox'
    : /Chrome\//.test(agent) ? 'Chrome' : /Safari\//.test(agent) ? 'Safari' : 'Browser';
  const system = /iPhone/.test(agent) ? 'iPhone' : /iPad/.test(agent) ? 'iPad' : /Android/.test(agent) ? 'Android'
    : /Windows/.test(agent) ? 'Windows' : /Mac OS X/.test(agent) ? 'macOS' : /Linux/.test(agent) ? 'Linux' : '';
  return system ? `${browser} on ${system}` : browser;
};

export function showError(element, error) {
  element.textContent = error.message || String(error);
  element.hidden = false;
}

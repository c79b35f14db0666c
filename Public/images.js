// Photos are resized and recompressed in the browser before upload: a phone's 12-megapixel JPEG
// becomes a few hundred KiB that still looks sharp on any screen.

const MAX_SIDE = 1600;
const QUALITY = 0.85;

/** A resized JPEG (or WebP/PNG kept as is when small) for images; other files unchanged. */
export async function prepareImage(file) {
  if (!/^image\/(jpeg|png|webp)$/.test(file.type)) return file;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file;
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  if (scale === 1 && file.size < 512 * 1024) return file;
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const type = file.type === 'image/png' ? 'image/png' : 'image/jpeg';
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, QUALITY));
  return blob && blob.size < file.size ? new File([blob], file.name, { type }) : file;
}

/** Side of an avatar, in pixels: what the server keeps of a chosen picture. */
export const AVATAR_SIDE = 256;

/**
 * A picture made into an avatar: the middle square, scaled to 256 × 256, as a JPEG (a PNG with
 * transparency would turn black behind a face in some viewers, so it is flattened on white).
 * Throws with words when the browser cannot read the file as a picture.
 */
export async function squareAvatar(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error('That file is not a picture this browser can read; choose a JPEG, PNG or WebP photo.');
  }
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = AVATAR_SIDE;
  canvas.height = AVATAR_SIDE;
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, AVATAR_SIDE, AVATAR_SIDE);
  context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, AVATAR_SIDE, AVATAR_SIDE);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
  if (!blob) throw new Error('This browser could not make the picture smaller; try another photo.');
  return new File([blob], 'avatar.jpg', { type: 'image/jpeg' });
}

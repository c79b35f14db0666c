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

/** Shortening of untrusted text (names and values read from files) before it goes into an error message. */

/** Shortens untrusted text for an error message. */
export function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The browser dev console, served at GET /console (placeholder until the console lands). */
export function consoleHtml(): string {
  return '<!doctype html><title>runcast console</title><p>runcast dev console</p>';
}

// Which of the newer server routes this server has, read from its OpenAPI document, so that
// the page hides what the server lacks without asking for it first (a 404 would also say
// so, but later, and as an error in the browser's console).

/** {members, publicRooms}: true or false; null each when the document cannot be read. */
export async function detectFeatures(api) {
  try {
    const routes = await api.routes();
    return { members: routes.has('/rooms/{roomId}/members'), publicRooms: routes.has('/rooms/public') };
  } catch {
    // Unknown: each feature finds out when first used.
    return { members: null, publicRooms: null };
  }
}

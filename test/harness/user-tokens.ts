/** Users signed in to the end-user API: an admin sets each one's cloud password, then the user signs in. */
import type { Express } from 'express';
import request from 'supertest';

export async function signInUsers(app: Express, admin: request.Agent, users: [userId: string, email: string][]): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const [id, email] of users) {
    const password = `${id} password long`;
    await admin.put(`/api/users/${id}/cloud-password`).send({ password }).expect(204);
    tokens[id] = (await request(app).post('/api/user-auth/login').send({ email, password }).expect(200)).body.token;
  }
  return tokens;
}

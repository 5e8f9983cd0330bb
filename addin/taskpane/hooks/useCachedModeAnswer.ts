/**
 * The user's answer to "is Cached Exchange Mode on?", remembered per mailbox in the storage passed in
 * (localStorage in the pane), and the client classification that follows from it.
 */
import { useMemo, useState } from 'react';
import { classifyClient, type CachedModeAnswer, type ClientClassification, type ClientFacts } from '../../office/client';

export type AnswerStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function answerKey(email: string | null) {
  return `lifeboat.cachedMode:${email ?? 'default'}`;
}

function loadAnswer(storage: AnswerStorage | null, email: string | null): CachedModeAnswer {
  try {
    const value = storage?.getItem(answerKey(email));
    return value === 'confirmed' || value === 'notConfirmed' ? value : null;
  } catch {
    return null;
  }
}

function saveAnswer(storage: AnswerStorage | null, email: string | null, answer: CachedModeAnswer) {
  try {
    if (answer) storage?.setItem(answerKey(email), answer);
    else storage?.removeItem(answerKey(email));
  } catch {
    // storage unavailable: the answer lasts as long as the pane
  }
}

export function useCachedModeAnswer(deps: { storage: AnswerStorage | null; email: string | null; facts: ClientFacts }): {
  client: ClientClassification;
  setAnswer: (answer: CachedModeAnswer) => void;
} {
  const { storage, email, facts } = deps;
  const [answer, setAnswerState] = useState<CachedModeAnswer>(() => loadAnswer(storage, email));
  const client = useMemo(() => classifyClient(facts, answer), [facts, answer]);
  const setAnswer = (next: CachedModeAnswer) => {
    saveAnswer(storage, email, next);
    setAnswerState(next);
  };
  return { client, setAnswer };
}

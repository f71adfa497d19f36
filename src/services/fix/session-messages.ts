/**
 * The session messages jspurefix builds, with one correction: its heartbeat timer puts the time
 * in TestReqID (112) of every Heartbeat. FIX reserves 112 on a Heartbeat for the answer to a
 * TestRequest, and a client may take an unexpected one as an answer it did not ask for, so a
 * Heartbeat carries 112 only when it answers a TestRequest the session received.
 */
import { AsciiSessionMsgFactory, type ILooseObject, type ISessionDescription } from './jspurefix.ts';

/** Per session (its description object): consumes a TestReqID the peer asked for, if it did. */
const askedFor = new WeakMap<ISessionDescription, (testReqId: string) => boolean>();

export function answerTestRequests(
  description: ISessionDescription,
  consume: (testReqId: string) => boolean,
): void {
  askedFor.set(description, consume);
}

export class BourseSessionMsgFactory extends AsciiSessionMsgFactory {
  override heartbeat(testReqId: string): ILooseObject {
    if (askedFor.get(this.description)?.(testReqId)) return super.heartbeat(testReqId);
    return this.mutate({}, '0');
  }
}

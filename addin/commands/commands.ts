/**
 * The add-in's FunctionFile and event runtime page (commands.html; launchevent.js is the same code
 * for classic Outlook on Windows). The ribbon buttons open the task pane (ShowTaskpane); this page
 * registers the OnMessageSend handler (onsend.ts).
 */
import { registerSendHandler } from './onsend';

registerSendHandler();
if (typeof Office !== 'undefined') {
  void Office.onReady?.();
}
export {};

/**
 * The ribbon's FunctionFile. The buttons open the task pane (ShowTaskpane), so there is nothing to
 * run yet; Outlook still loads this page, and later ribbon commands / the OnMessageSend handler
 * register here.
 */
if (typeof Office !== 'undefined') {
  void Office.onReady();
}
export {};

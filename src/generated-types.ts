// Generated file. DO NOT MODIFY IT BY HAND.

export interface Settings {
  /**
   * Your Refersion public key and secret key joined by a dot: publickey.secretkey. Find both in the Refersion dashboard under Account > Settings > Refersion API.
   */
  apiKey: string
}
